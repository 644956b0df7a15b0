/**
 * What a subject receives: the access report (which stores hold what, how much, kept how long
 * and why) and the portability bundle (a BagIt bag in a ZIP), both in the bundle bucket; and
 * the check `dsr bundle verify` runs on a bundle.
 */
export { accessReport, assembleAccessReport, reportKeys, type AssembledExport, type AssembleOptions } from './access';
export { assemblePortabilityBundle, bundleKeyOf, DEFAULT_PART_SIZE, type PortabilityOptions } from './portability';
export type { Overview, StoreOverview } from './overview';
