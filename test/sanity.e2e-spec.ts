import { Test } from '@nestjs/testing';
import { PtySessionManager, PtySessionModule } from 'nestjs-pty-session';

test('sanity: a real session echoes and exits', async () => {
  const mod = await Test.createTestingModule({
    imports: [PtySessionModule.forRoot({ profiles: { sh: { file: '/bin/sh', args: ['-c', 'echo hello; exit 3'], env: { PATH: '/usr/bin:/bin' } } }, defaultProfile: 'sh' })],
  }).compile();
  const app = mod.createNestApplication();
  await app.init();
  const manager = app.get(PtySessionManager);
  const s = await manager.createSession({ key: 'k' });
  const exit = await s.whenExited();
  expect(exit.exitCode).toBe(3);
  expect(s.getReplayBuffer().data).toContain('hello');
  await app.close();
});
