// Cheap distinct images live with the test helpers (the chaos test pushes hundreds too).
export { forEachLimited, ImageFactory } from '../../test/helpers/image-factory.ts';
