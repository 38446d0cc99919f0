/**
 * @module test/grpc-service — a tiny gRPC service for the @certified/node/grpc tests, defined without
 * protoc: JSON messages, a unary `Hello` and a server-streaming `Count`, and promise helpers that
 * report a call's outcome (value or ServiceError) instead of throwing.
 */
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
