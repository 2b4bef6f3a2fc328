import { ConfigurableModuleBuilder } from '@nestjs/common';
import { createPtySessionGateway, type PtyGatewayOptions } from './gateway/pty-session.gateway.js';
import type { PtySessionModuleOptions } from './interfaces/pty-session-module-options.interface.js';
import { PTY_SESSION_MODULE_OPTIONS } from './pty-session.constants.js';

/** Options that shape the module itself rather than the injected options object. */
export interface PtySessionModuleExtras {
  /** Register the module globally, so feature modules need not import it. Default false. */
  isGlobal?: boolean;
  /**
   * The Socket.IO gateway's server settings (namespace, path, message size),
   * or `false` for no gateway (the manager only). Default: a gateway on `/pty`.
   */
  gateway?: PtyGatewayOptions | false;
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
  .setExtras<PtySessionModuleExtras>({ isGlobal: false, gateway: {} }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? false,
    providers: [...(definition.providers ?? []), ...(extras.gateway === false ? [] : [createPtySessionGateway(extras.gateway)])],
  }))
  .build();
