// Request/reply over custom messages. Each request carries an id; the reply echoes it.
// A channel ("page:result") keeps only its newest request: a reply to an older one is stale
// and dropped, so a slow page never overwrites the page the user asked for last.

import type { Model, Reply, Request } from "./types";

/** Binary parts of a reply (media for the preview): DataViews in JupyterLab. */
export type Buffers = (ArrayBuffer | ArrayBufferView)[];
type Handler = (reply: Reply, buffers: Buffers) => void;

let seq = 0;

export class Rpc {
  private readonly prefix: string;
  private readonly waiting = new Map<string, { channel: string; handler: Handler }>();
  private readonly latest = new Map<string, string>();
  private readonly listener: (...args: unknown[]) => void;

  constructor(private readonly model: Model) {
    seq += 1;
    this.prefix = `v${seq}-${Math.random().toString(36).slice(2, 8)}`;
    this.listener = (content: unknown, buffers: unknown) =>
      this.receive(content, Array.isArray(buffers) ? (buffers as Buffers) : []);
    model.on("msg:custom", this.listener);
  }

  private counter = 0;

  request<T extends Request["type"]>(
    channel: string,
    body: Omit<Extract<Request, { type: T }>, "id"> & { type: T },
    handler: Handler,
  ): string {
    this.counter += 1;
    const id = `${this.prefix}-${this.counter}`;
    this.latest.set(channel, id);
    this.waiting.set(id, { channel, handler });
    this.model.send({ ...body, id } as Request);
    return id;
  }

  private receive(content: unknown, buffers: Buffers): void {
    if (typeof content !== "object" || content === null) return;
    const reply = content as Reply;
    if (typeof reply.id !== "string") return;
    const entry = this.waiting.get(reply.id);
    if (!entry) return; // another view's request, or one we already dropped
    this.waiting.delete(reply.id);
    if (this.latest.get(entry.channel) !== reply.id) return; // stale: a newer one is waiting
    entry.handler(reply, buffers);
  }

  dispose(): void {
    this.model.off("msg:custom", this.listener);
    this.waiting.clear();
  }
}
