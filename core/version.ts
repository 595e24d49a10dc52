import packageJson from '../package.json' with { type: 'json' };

/** devsnap's own version, recorded in every manifest. */
export const DEVSNAP_VERSION: string = packageJson.version;
