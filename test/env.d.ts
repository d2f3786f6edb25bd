declare namespace Cloudflare {
  interface Env {
    JOBS: DurableObjectNamespace;
  }
}
