// `node --import ./record-loaded-modules.mjs …`: records every module the process loads (ES module
// imports, which is how devsnap reaches its dependencies) into $DEVSNAP_LOADED_MODULES_FILE.
import { register } from 'node:module';

register('./loaded-modules-hooks.mjs', import.meta.url, {
  data: { file: process.env.DEVSNAP_LOADED_MODULES_FILE },
});
