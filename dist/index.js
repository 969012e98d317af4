import{createRequire as __gateRequire}from'node:module';const require=__gateRequire(import.meta.url);
(process.env.RUNNER_DEBUG==="1"||process.env.ACTIONS_STEP_DEBUG==="true")&&process.setSourceMapsEnabled(!0);var{run:e}=await import("./main-L33MCUHJ.js");await e();
//# sourceMappingURL=index.js.map
