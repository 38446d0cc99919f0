/**
 * @module test/grpc-service — a tiny gRPC service for the @certified/node/grpc tests, defined without
 * protoc: JSON messages, a unary `Hello` and a server-streaming `Count`, and promise helpers that
 * report a call's outcome (value or ServiceError) instead of throwing; `rawHello` makes the call
 * without grpc-js, on a bare node:http2 session.
 */
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import {
  makeGenericClientConstructor,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';

export interface HelloRequest {
  readonly name: string;
}
export interface HelloReply {
  readonly text: string;
  /** The caller's common name as the server saw it (grpcPeerOf), or null. */
  readonly caller: string | null;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8')),
};

function method<Req, Res>(path: string, responseStream: boolean) {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: json.serialize as (value: Req) => Buffer,
    requestDeserialize: json.deserialize as (bytes: Buffer) => Req,
    responseSerialize: json.serialize as (value: Res) => Buffer,
    responseDeserialize: json.deserialize as (bytes: Buffer) => Res,
  };
}

export const GreeterService = {
  hello: method<HelloRequest, HelloReply>('/certified.test.Greeter/Hello', false),
  count: method<HelloRequest, HelloReply>('/certified.test.Greeter/Count', true),
} satisfies ServiceDefinition;

type GreeterClient = Client & {
  hello(
    request: HelloRequest,
    options: CallOptions,
    callback: (error: ServiceError | null, reply?: HelloReply) => void,
  ): void;
  count(request: HelloRequest, options: CallOptions): ClientReadableStream<HelloReply>;
};

const Greeter = makeGenericClientConstructor(GreeterService, 'Greeter') as unknown as new (
  target: string,
  credentials: ChannelCredentials,
  options?: ChannelOptions,
) => GreeterClient;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ServiceError };

/** A client for the test service; close it with `client.close()`. */
export function greeter(
  target: string,
  credentials: ChannelCredentials,
  options?: ChannelOptions,
): GreeterClient {
  return new Greeter(target, credentials, options);
}

/** One unary Hello call with a deadline. */
export function hello(
  client: GreeterClient,
  name: string,
  deadlineMs = 10_000,
): Promise<Outcome<HelloReply>> {
  return new Promise((resolve) => {
    client.hello({ name }, { deadline: Date.now() + deadlineMs }, (error, reply) =>
      resolve(error ? { ok: false, error } : { ok: true, value: reply! }),
    );
  });
}

/** One server-streaming Count call, collected. */
export function count(
  client: GreeterClient,
  name: string,
  deadlineMs = 10_000,
): Promise<Outcome<HelloReply[]>> {
  return new Promise((resolve) => {
    const replies: HelloReply[] = [];
    const stream = client.count({ name }, { deadline: Date.now() + deadlineMs });
    stream.on('data', (reply: HelloReply) => replies.push(reply));
    stream.on('error', (error: ServiceError) => resolve({ ok: false, error }));
    stream.on('end', () => resolve({ ok: true, value: replies }));
  });
}

/** How a call made by {@link rawHello} ended: its grpc-status, and the reply when there was one. */
export interface RawCallOutcome {
  readonly grpcStatus: number | undefined;
  readonly reply: HelloReply | undefined;
}

/**
 * One unary Hello call framed by hand on a bare `node:http2` session, for tests that must know when
 * the server has read a call (a PING after `sent` is answered only once it has). `sent` resolves
 * once the request is written out.
 */
export function rawHello(
  session: ClientHttp2Session,
  name: string,
): { readonly sent: Promise<void>; readonly outcome: Promise<RawCallOutcome> } {
  const stream = session.request({
    ':method': 'POST',
    ':path': GreeterService.hello.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const message = json.serialize({ name });
  // gRPC message framing: not compressed (0), big-endian length, message.
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  const sent = new Promise<void>((resolve) => stream.end(frame, () => resolve()));
  const outcome = new Promise<RawCallOutcome>((resolve) => {
    let grpcStatus: number | undefined;
    const chunks: Buffer[] = [];
    const statusFrom = (headers: IncomingHttpHeaders): void => {
      if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
    };
    stream.on('response', statusFrom);
    stream.on('trailers', statusFrom);
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      const body = Buffer.concat(chunks);
      const reply =
        body.length > 5 ? (json.deserialize(body.subarray(5)) as HelloReply) : undefined;
      resolve({ grpcStatus, reply });
    });
  });
  return { sent, outcome };
}
