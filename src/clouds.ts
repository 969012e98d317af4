/** Endpoints of the Azure clouds the action knows; `arm-endpoint`/`authority-host` override them. */
export interface Cloud {
  name: string
  armEndpoint: string
  authorityHost: string
  studioUrl: string
}

export const CLOUDS: Record<string, Cloud> = {
  AzureCloud: {
    name: 'AzureCloud',
    armEndpoint: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    studioUrl: 'https://ml.azure.com'
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    armEndpoint: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    studioUrl: 'https://ml.azure.us'
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    armEndpoint: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    studioUrl: 'https://studio.ml.azure.cn'
  }
}

/** Instance discovery only works against Microsoft's own authorities. */
export function isMicrosoftAuthority(authorityHost: string): boolean {
  const host = new URL(authorityHost).hostname.toLowerCase()
  return Object.values(CLOUDS).some(cloud => new URL(cloud.authorityHost).hostname === host)
}
