import { undocumentedNames } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';

/** Taken from the config schema itself, so a variable added without its documentation fails here. */
describe('every configuration variable is documented', () => {
  it.each(['README.md', '.env.example'])('in %s', (file) => {
    expect(CONFIG_VARIABLES).toEqual(
      expect.arrayContaining(['AUTH_ISSUER', 'AUTH_STORE', 'LOG_LEVEL', 'GATEHOUSE_PASSWORD']),
    );
    expect(undocumentedNames(CONFIG_VARIABLES, file)).toEqual([]);
  });
});
