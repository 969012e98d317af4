// Lets plain `node --import ./emulator/register.mjs file.ts` run TypeScript (the demo and bench
// scripts in package.json use it); same loader as the tsx CLI.
import { register } from 'tsx/esm/api'

register()
