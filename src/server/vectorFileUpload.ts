import { PersonaError } from '../errors.js';
import type { ModelInfo } from '../engine/worker/protocol.js';
import { personaFromVectorFile, personaSidecar, VECTOR_FILE_FORMATS, type VectorFileFormat } from '../steering/formats/personaFromVectorFile.js';
import { ApiError } from './ApiError.js';
import type { PersonaDetail, PersonaStore } from './PersonaStore.js';

/**
 * `POST /v1/personas` with a vector file made elsewhere:
 * `{ "format": "gguf" | "pt" | "pv-safetensors", "file": "<base64>", "name": "evil", "layer"?: 18, "description"?: "…" }`
 * — a llama.cpp / repeng control vector or a persona_vectors `.pt` / `[L+1, H]` safetensors. The
 * file is checked against the served model (hidden size, layer count, finite values; a `.pt` pickle
 * is read without executing anything); a bad one is a 400 naming the problem. It is then stored as
 * a persona like any upload; the response adds `default_layer_rule` (how the layer was chosen).
 *
 * @example const detail = await vectorFileUpload({ personas, info, modelId: 'stylist', maxFolderBytes: 512 << 20 }, body);
 */
export async function vectorFileUpload(
  ctx: { personas: PersonaStore; info: ModelInfo; modelId: string; maxFolderBytes: number },
  body: { format?: unknown; file?: unknown; name?: unknown; layer?: unknown; description?: unknown },
): Promise<PersonaDetail & { default_layer_rule: string }> {
  const bad = (message: string, param: string): never => {
    throw new ApiError(400, message, 'invalid_request_error', { param });
  };
  if (typeof body.format !== 'string' || !(VECTOR_FILE_FORMATS as readonly string[]).includes(body.format))
    bad(`format must be one of ${VECTOR_FILE_FORMATS.join(', ')}.`, 'format');
  if (typeof body.file !== 'string' || body.file.length === 0 || body.file.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.file))
    bad('file must be the vector file, base64-encoded.', 'file');
  if (typeof body.name !== 'string' || body.name.length === 0) bad('name is required: the persona name to store the vector under.', 'name');
  if (body.layer !== undefined && !Number.isInteger(body.layer)) bad('layer must be an integer block index.', 'layer');
  if (body.description !== undefined && typeof body.description !== 'string') bad('description must be a string.', 'description');
  const format = body.format as VectorFileFormat;
  let made;
  try {
    made = await personaFromVectorFile(Buffer.from(body.file as string, 'base64'), {
      format,
      name: body.name as string,
      description: body.description as string | undefined,
      layer: body.layer as number | undefined,
      model: { id: ctx.modelId, modelType: ctx.info.config.modelType, hiddenSize: ctx.info.hiddenSize, numLayers: ctx.info.numLayers },
      where: `the uploaded ${format} file`,
    });
  } catch (err) {
    if (err instanceof PersonaError) bad(err.message, 'file');
    throw err;
  }
  const detail = await ctx.personas.add({ ...made!.persona.meta }, personaSidecar(made!.persona), { maxFolderBytes: ctx.maxFolderBytes });
  return { ...detail, default_layer_rule: made!.defaultLayerRule };
}
