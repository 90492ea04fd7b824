// The part of oidc-provider's API the benchmarks use (the package ships no types).
declare module 'oidc-provider' {
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number, host: string, callback: () => void): unknown;
  }
}
