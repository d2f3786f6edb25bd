// The metrics suites' webhook receiver (vitest.config.ts binds it as the runner's outbound service):
// each notification's first attempt gets a 500 and its next a 200, so every notification fails once
// and then lands.
const attempted = new Set();

export default {
  async fetch(request) {
    const id = request.headers.get('Jobcast-Event-Id');
    if (request.method !== 'POST' || id === null) return new Response('not a notification', { status: 404 });
    await request.arrayBuffer();
    if (attempted.has(id)) return new Response(null, { status: 200 });
    attempted.add(id);
    return new Response(null, { status: 500 });
  },
};
