// The part of oidc-provider's API the benchmarks and test/external use (the package ships no types).
declare module 'oidc-provider' {
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number, host: string, callback: () => void): unknown;
    /** The request handler, to serve the provider from a node:http server whose handler can be swapped. */
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  }
}
