// Imported (not read at run time) so the bundled Electron build carries it too.
import packageJson from '../../package.json' with { type: 'json' };

/** The version in package.json, stored with every run so results can be traced to a build. */
export const APP_VERSION: string = packageJson.version;
