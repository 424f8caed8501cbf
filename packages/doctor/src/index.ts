export type { LoginOptions } from './checks/login.js';
export { type ClientFixture, clientsThat, loadCorpus, type ReplayStep } from './corpus.js';
export { type DoctorOptions, runDoctor } from './doctor.js';
export { renderText } from './render-text.js';
export type { ClientVerdict, Evidence, Finding, FindingStatus, Report, Step } from './report.js';
