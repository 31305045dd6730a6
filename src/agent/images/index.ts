// The image store: public surface.
export { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from './archive.ts';
export { decodeDockerConfig, registryAuthFromSecrets } from './dockerconfig.ts';
export { ImageError, type ImageErrorReason, isImageError } from './errors.ts';
export { planImageGc } from './gc.ts';
export { importImageDir } from './import-dir.ts';
export { type StoredImage, storeLayout } from './index-file.ts';
export { containerRootfsPaths } from './mount.ts';
export { familiarName, formatReference, type ImageReference, normalizeReference, parseReference, repositoryOf } from './reference.ts';
export { emptyRegistriesConfig, loadRegistriesConfig, parseRegistriesConfig, type RegistriesConfig } from './registry/config.ts';
export { LocalImageStore, type LocalImageStoreOptions } from './store.ts';
