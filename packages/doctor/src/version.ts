/** Reported in every report; kept equal to package.json's version by the package test. */
export const VERSION = '0.1.0';
