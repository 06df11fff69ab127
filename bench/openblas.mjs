// OpenBLAS picks its kernels by CPU model and falls back to Prescott's (SSE3, several times
// slower) on a model it does not know (e.g. a Xeon under KVM reporting family 6 model 207). A
// PyTorch peer is then told the kernels the CPU's flags allow, so it runs at its real speed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The OPENBLAS_CORETYPE a PyTorch peer should run with here (undefined: OpenBLAS's own pick). */
export function openblasCoreType() {
  if (process.env.OPENBLAS_CORETYPE) return process.env.OPENBLAS_CORETYPE;
  const probe = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import torch; torch.mm(torch.ones(64, 64), torch.ones(64, 64))'],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_VERBOSE: '2' } },
  );
  const core = /Core: (\w+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1];
  if (core !== 'Prescott') return core;
  const flags =
    /flags\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(' ') ?? [];
  if (flags.includes('avx512f')) return 'SkylakeX';
  return flags.includes('avx2') ? 'Haswell' : core;
}
