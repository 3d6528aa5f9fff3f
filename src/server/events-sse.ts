// Server-sent events: every event-bus event, as `event: <type>` / `data: <json>`, with keep-alives.
import type { FastifyPluginAsync } from 'fastify';
import { type AuthService, SYSTEM } from '../auth/index.ts';
import type { EventBus } from '../core/index.ts';

export function eventRoutes(events: EventBus, auth: AuthService): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { types?: string } }>('/events', async (request, reply) => {
      const subject = await auth.authenticate(request.headers);
      auth.require(subject, 'pipeline.view', SYSTEM);
      const prefixes = (request.query.types ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': connected\n\n');
      const off = events.onAny((event) => {
        if (prefixes.length > 0 && !prefixes.some((p) => String(event.type).startsWith(p))) return;
        res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify({ ...event })}\n\n`);
      });
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      const close = () => {
        clearInterval(ping);
        off();
      };
      request.raw.on('close', close);
      res.on('error', close);
    });
  };
}
