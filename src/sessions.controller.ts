import { BadRequestException, Controller, Get, NotFoundException, Param, ParseIntPipe, Query, UseGuards } from '@nestjs/common';
import { PtySessionError, PtySessionManager, type PtyReplaySlice, type PtySessionInfo } from 'nestjs-pty-session';
import { DevTokenGuard } from './dev-auth.js';

/**
 * Read-only views of the sessions, for the holder of the development token
 * (`Authorization: Bearer <token>`). Creating sessions and typing into them is
 * the Socket.IO gateway's job (authenticated); a plain HTTP POST that spawns
 * shells would be open to any page the browser visits.
 */
@Controller('sessions')
@UseGuards(DevTokenGuard)
export class SessionsController {
  constructor(private readonly sessions: PtySessionManager) {}

  @Get()
  list(): PtySessionInfo[] {
    return this.sessions.listSessions();
  }

  /** The session's buffered output since `since` (default: all of it). */
  @Get(':id/output')
  output(@Param('id') id: string, @Query('since', new ParseIntPipe({ optional: true })) since?: number): PtyReplaySlice {
    const session = this.sessions.getSession(id);
    if (!session) throw new NotFoundException(`No session ${id}`);
    try {
      return session.getReplayBuffer(since);
    } catch (error) {
      if (error instanceof PtySessionError && error.code === 'INVALID_OFFSET') throw new BadRequestException(error.message);
      throw error;
    }
  }
}
