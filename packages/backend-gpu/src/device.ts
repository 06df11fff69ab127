// Finding a WebGPU adapter and opening a device: navigator.gpu in browsers, Dawn's `webgpu`
// package in Node (loaded with a dynamic import so bundlers never pull it into a browser build).
import { WebGpuError } from './errors.js';

/** Options for choosing the adapter and the device limits. */
export interface DeviceOptions {
  /** Adapter preference passed to `requestAdapter` (default none: the platform's choice). */
  powerPreference?: GPUPowerPreference;
  /**
   * Node only: Dawn toggles for `create()`, such as `['backend=vulkan']`. Default: try Dawn's
   * default backend at feature level `core`, then `['backend=opengles']` at `compatibility`
   * (Mesa's software OpenGL ES, which makes the backend testable on machines without a GPU).
   */
  dawnFlags?: readonly string[];
  /** Limits to request above the defaults; each is capped at what the adapter offers. */
  requiredLimits?: Record<string, number>;
  /** An already opened device to use instead of opening one (browser apps that share theirs). */
  device?: GPUDevice;
}

// Dawn's GPU objects must outlive their devices: if the instance that made a device is garbage
// collected, Dawn's event thread crashes the process (seen as futex/mutex aborts). Keep them.
const instances = new Set<unknown>();

/** An opened device and what is known about its adapter. */
export interface OpenedDevice {
  /** The device. */
  device: GPUDevice;
  /** One line naming the adapter, for logs and benchmark tables. */
  description: string;
  /** `core` or `compatibility` (the OpenGL ES path). */
  featureLevel: 'core' | 'compatibility';
}

// Limits the kernels want (capped at the adapter's): fused backward kernels bind up to 8
// storage buffers, the GEMM tile needs 256 invocations and 8 KiB of workgroup memory.
const WANTED_LIMITS: Record<string, number> = {
  maxStorageBuffersPerShaderStage: 10,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBufferBindingSize: 2 ** 31 - 4,
  maxBufferSize: 2 ** 31 - 4,
};

interface Gpu {
  requestAdapter(options?: Record<string, unknown>): Promise<GPUAdapter | null>;
}

/** The GPU entry point of this environment, or undefined when there is none. */
async function gpuEntries(
  options: DeviceOptions,
): Promise<{ gpu: Gpu; featureLevel: 'core' | 'compatibility' }[]> {
  const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
  if (nav?.gpu) return [{ gpu: nav.gpu, featureLevel: 'core' }];
  const proc = (
    globalThis as {
      process?: { versions?: { node?: string }; env: Record<string, string | undefined> };
    }
  ).process;
  if (!proc?.versions?.node) return [];
  // Mesa's EGL needs a platform when there is no display; set before Dawn loads EGL.
  proc.env.EGL_PLATFORM ??= 'surfaceless';
  const moduleName = 'webgpu';
  let dawn: { create(flags: string[]): Gpu; globals: Record<string, unknown> };
  try {
    dawn = await import(/* @vite-ignore */ moduleName);
  } catch (error) {
    throw new WebGpuError(
      'no_adapter',
      `the 'webgpu' package (Dawn) could not be loaded: ${(error as Error).message}`,
    );
  }
  // Dawn's classes (GPUBufferUsage...) become globals, as in a browser.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  if (options.dawnFlags)
    return [
      {
        gpu: dawn.create([...options.dawnFlags]),
        featureLevel: options.dawnFlags.includes('backend=opengles') ? 'compatibility' : 'core',
      },
    ];
  return [
    { gpu: dawn.create([]), featureLevel: 'core' },
    { gpu: dawn.create(['backend=opengles']), featureLevel: 'compatibility' },
  ];
}

/**
 * Finds an adapter and opens a device with the limits the kernels need. Throws a
 * {@link WebGpuError} with code `no_adapter` when this environment has none.
 */
export async function openDevice(options: DeviceOptions = {}): Promise<OpenedDevice> {
  if (options.device) {
    return {
      device: options.device,
      description: 'device supplied by the caller',
      featureLevel: options.device.features.has('core-features-and-limits')
        ? 'core'
        : 'compatibility',
    };
  }
  const tried: string[] = [];
  for (const { gpu, featureLevel } of await gpuEntries(options)) {
    const adapter = await gpu
      .requestAdapter({ featureLevel, powerPreference: options.powerPreference })
      .catch(() => null);
    if (!adapter) {
      tried.push(featureLevel);
      continue;
    }
    const wanted = { ...WANTED_LIMITS, ...options.requiredLimits };
    const requiredLimits: Record<string, number> = {};
    const offered = adapter.limits as unknown as Record<string, number>;
    for (const [name, value] of Object.entries(wanted)) {
      if (typeof offered[name] === 'number') requiredLimits[name] = Math.min(value, offered[name]);
    }
    const requiredFeatures = (['shader-f16', 'subgroups'] as GPUFeatureName[]).filter((f) =>
      adapter.features.has(f),
    );
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    instances.add(gpu);
    instances.add(adapter);
    const info = adapter.info;
    const description = [info?.vendor, info?.architecture, info?.device, info?.description]
      .filter((s) => s)
      .join(' ')
      .trim();
    return {
      device,
      description: `${description || 'unnamed adapter'} (${featureLevel})`,
      featureLevel,
    };
  }
  throw new WebGpuError(
    'no_adapter',
    tried.length
      ? `no WebGPU adapter found (tried feature levels: ${tried.join(', ')})`
      : 'no WebGPU in this environment (no navigator.gpu and not Node)',
  );
}
