import { Controller, Get, NotFoundException, Param, ParseIntPipe, Query } from '@nestjs/common';
import { PtySessionManager, type PtySessionInfo } from 'nestjs-pty-session';

/**
 * Read-only views of the sessions. Creating sessions and typing into them is
 * the Socket.IO gateway's job (authenticated); a plain HTTP POST that spawns
 * shells would be open to any page the browser visits.
 */
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: PtySessionManager) {}

  @Get()
  list(): PtySessionInfo[] {
    return this.sessions.listSessions();
  }

  /** The session's buffered output since `since` (default: all of it), as text. */
  @Get(':id/output')
  output(@Param('id') id: string, @Query('since', new ParseIntPipe({ optional: true })) since?: number) {
    const session = this.sessions.getSession(id);
    if (!session) throw new NotFoundException(`No session ${id}`);
    return session.getReplayBuffer(since);
  }
}
