import { chooseBackend } from '../backend.js';
import { CliError } from '../cli-error.js';
import { integerFlag, parseFlags } from '../flags.js';
import { openChatModel } from '../serve/chat-model.js';
import { startOpenAiServer } from '../serve/openai-server.js';

export const SERVE_HELP = `usage: llmkit serve --model DIR [--port N] [--host ADDRESS] [--max-positions N] [--backend NAME]

Serves a model over the OpenAI HTTP API (any OpenAI client, LangChain or vercel/ai can call it):
POST /v1/chat/completions and /v1/completions (streaming with server-sent events), GET /v1/models.
One request runs at a time; the others wait in order. A client that disconnects cancels its request.
  --model DIR           a Hugging Face folder (tokenizer.json, config.json, model.safetensors) or a
                        llmkit train / finetune run folder
  --port N              port (default 8080; 0 picks a free one)
  --host ADDRESS        address to bind (default 127.0.0.1: only this machine can connect)
  --max-positions N     cap on the context length of large models (default 4096)
  --backend NAME        cpu (native, the default when it builds here), js (reference) or webgpu`;

/** `llmkit serve`. */
export async function serve(args: string[]): Promise<void> {
  const { values } = parseFlags('serve', args, {
    model: { type: 'string' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    'max-positions': { type: 'string', default: '4096' },
    backend: { type: 'string' },
    help: { type: 'boolean', default: false },
  });
  if (values.help) return console.log(SERVE_HELP);
  if (!values.model)
    throw new CliError('--model DIR is required (a Hugging Face folder or a llmkit run folder)');
  const port = integerFlag('port', values.port, 0);
  if (port > 65535) throw new CliError(`--port ${port}: expected a port in [0, 65535]`);
  const backend = await chooseBackend(values.backend);
  const started = performance.now();
  const chat = await openChatModel(
    values.model,
    integerFlag('max-positions', values['max-positions']),
  );
  const { server, url } = await startOpenAiServer(chat, { port, host: values.host });
  console.log(
    `serving ${chat.name} (${(chat.weightBytes / 2 ** 20).toFixed(1)} MiB of weights, loaded in ${((performance.now() - started) / 1000).toFixed(1)} s, ${backend} backend) at ${url}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
