/**
 * Where a model server records why a serving version failed to load, for
 * `serving status`: one claim per version (scope `serving-failure`, name
 * `<model_uid>/<version>`), its owner field holding the reason (at most
 * 1000 characters). Claims are the one record every metadata store keeps
 * besides models and servings; a serving record has no field for it.
 */
export const SERVING_FAILURE_SCOPE = 'serving-failure';
export const servingFailureKey = (modelUid: string, version: number) => `${modelUid}/${version}`;
