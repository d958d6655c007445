import { type CheckedImage, SubjectGate, UNSET_SUBJECT_POLICY } from '../../src/policy/index.ts';
import type { ImageRef } from '../../src/storage/index.ts';
import type { RunRef } from '../../src/tekton/index.ts';

const RUN: RunRef = {
  kind: 'TaskRun',
  namespace: 'test',
  name: 'test',
  uid: 'test',
  serviceAccountName: 'default',
};
const GATE = new SubjectGate({ policy: UNSET_SUBJECT_POLICY });

/**
 * Test images as the storage code accepts them: through the real subject gate (no policy, no
 * existence check), the only maker of a CheckedImage. Throws for an image the gate skips, or whose
 * canonical name differs from the one given (a test would then look for it in the wrong place).
 */
export async function checkedImages(images: readonly ImageRef[]): Promise<CheckedImage[]> {
  const claims = images.map((i) => ({ source: 'test', name: i.repository, digest: i.digest, image: true }));
  const { verdicts, skipped } = await GATE.check(RUN, claims);
  return verdicts.map((v, i) => {
    const given = images[i] as ImageRef;
    if (v?.kind !== 'oci' || v.repository !== given.repository)
      throw new Error(
        `${given.repository}@${given.digest} is not a canonical image: ${JSON.stringify(skipped)}`,
      );
    return v;
  });
}

export async function checkedImage(image: ImageRef): Promise<CheckedImage> {
  return (await checkedImages([image]))[0] as CheckedImage;
}
