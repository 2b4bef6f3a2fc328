import { ArgumentsHost, Catch, HttpException, Logger, type WsExceptionFilter } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { PtyErrorAnswer } from 'nestjs-pty-session-client/protocol';
import { PtySessionErrors } from '../pty-session.errors.js';
import { toWireError } from './wire-mappers.js';

/**
 * Answers through the acknowledgement when something outside a handler
 * fails: a host's global guard refusing the message, an interceptor
 * throwing. Nest's default WebSocket filter emits an `exception` event and
 * never calls the acknowledgement, which would leave the client waiting.
 */
@Catch()
export class PtyGatewayExceptionFilter implements WsExceptionFilter {
  private readonly logger = new Logger('PtySessionGateway');

  catch(exception: unknown, host: ArgumentsHost): void {
    const acknowledge = host.getArgs().find((arg): arg is (answer: PtyErrorAnswer) => void => typeof arg === 'function');
    acknowledge?.({ ok: false, error: this.toError(exception) });
  }

  private toError(exception: unknown) {
    if (exception instanceof WsException) return PtySessionErrors.forbidden(messageOf(exception.getError())).toJSON();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 401) return PtySessionErrors.unauthorized(exception.message).toJSON();
      if (status === 403) return PtySessionErrors.forbidden(exception.message).toJSON();
    }
    return toWireError(exception, this.logger);
  }
}

function messageOf(error: string | object): string {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : 'Forbidden.';
}
