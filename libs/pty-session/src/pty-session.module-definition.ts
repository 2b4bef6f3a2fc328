import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PtySessionModuleOptions } from './interfaces/pty-session-module-options.interface.js';
import { PTY_SESSION_MODULE_OPTIONS } from './pty-session.constants.js';

/** Options that shape the module itself rather than the injected options object. */
export interface PtySessionModuleExtras {
  /** Register the module globally, so feature modules need not import it. Default false. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: PtySessionConfigurableModule,
  OPTIONS_TYPE: PTY_SESSION_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PTY_SESSION_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PtySessionModuleOptions>({
  optionsInjectionToken: PTY_SESSION_MODULE_OPTIONS,
  moduleName: 'PtySession',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createPtySessionOptions')
  .setExtras<PtySessionModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? false,
  }))
  .build();
