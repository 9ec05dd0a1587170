/**
 * Cell bookkeeping for a batch of classifier grids: which cells are computed (rows), which are read
 * as constants, and the neighbour index tables that turn a perception conv into gather + matMul.
 *
 * Dense mode: every cell is a row; the alive mask multiplies the update.
 * Alive-only mode: only alive cells are rows. A dead cell never changes (its state is its pixel
 * value and zeros), so a neighbour that is dead reads a constant row, and a dead cell with pixel 0
 * reads the shared zero row, exactly like the zero padding at the border. Same numbers, fewer rows.
 */
import type { NeighbourTable } from './ops.ts';

export interface BatchGeometry {
  batch: number;
  height: number;
  width: number;
  channels: number;
  kernel: number;
  /** computed rows */
  rows: number;
  /** row -> sample * height * width + cell */
  rowCell: Int32Array;
  /** row -> 1 if the cell is alive (all ones in alive-only mode) */
  rowAlive: Float32Array;
  /** alive cells per sample, row-major order; rows of alive cells are listed in the same order */
  aliveCells: Int32Array[];
  /** row -> ordinal among its sample's alive cells, or -1 (dense mode, dead cell) */
  rowAliveOrdinal: Int32Array;
  table: NeighbourTable;
}

/**
 * Alive masks per sample from the pixel channel. threshold: pixel > t; dilated: 3x3 max-pool of the
 * threshold mask; none: every cell.
 */
export function aliveMask(
  pixels: ArrayLike<number>,
  height: number,
  width: number,
  mode: 'threshold' | 'dilated' | 'none',
  threshold: number,
  pixelStride = 1,
): Uint8Array {
  const n = height * width;
  const m = new Uint8Array(n);
  if (mode === 'none') return m.fill(1);
  for (let i = 0; i < n; i++) m[i] = pixels[i * pixelStride] > threshold ? 1 : 0;
  if (mode === 'threshold') return m;
  const d = new Uint8Array(n);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (let dy = -1; dy <= 1 && !v; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < height && xx >= 0 && xx < width && m[yy * width + xx]) {
            v = 1;
            break;
          }
        }
      d[y * width + x] = v;
    }
  return d;
}

/**
 * Build the geometry of a batch. `states` holds each sample's full grid [height*width*channels]
 * (channel 0 = pixel); `alive` each sample's alive mask.
 */
export function buildGeometry(
  states: Float32Array[],
  alive: Uint8Array[],
  height: number,
  width: number,
  channels: number,
  kernel: number,
  aliveOnly: boolean,
): BatchGeometry {
  const batch = states.length;
  const hw = height * width;
  const taps = kernel * kernel;
  const pad = (kernel - 1) >> 1;
  const rowOf = new Int32Array(batch * hw).fill(-1);
  const constOf = new Int32Array(batch * hw).fill(-1);
  const aliveCells: Int32Array[] = [];
  const rowCellList: number[] = [];
  const rowAliveList: number[] = [];
  const ordinalList: number[] = [];
  for (let b = 0; b < batch; b++) {
    const cells: number[] = [];
    for (let c = 0; c < hw; c++) {
      const isAlive = alive[b][c] === 1;
      if (isAlive) cells.push(c);
      if (isAlive || !aliveOnly) {
        rowOf[b * hw + c] = rowCellList.length;
        rowCellList.push(b * hw + c);
        rowAliveList.push(isAlive ? 1 : 0);
        ordinalList.push(isAlive ? cells.length - 1 : -1);
      }
    }
    aliveCells.push(Int32Array.from(cells));
  }
  const rows = rowCellList.length;
  // Constant rows: dead cells whose state is not all zero (pixel > 0); the rest read the zero row.
  const constData: number[] = [];
  let nConst = 0;
  if (aliveOnly) {
    for (let b = 0; b < batch; b++) {
      const s = states[b];
      for (let c = 0; c < hw; c++) {
        if (alive[b][c]) continue;
        let nonzero = false;
        for (let k = 0; k < channels; k++) if (s[c * channels + k] !== 0) nonzero = true;
        if (!nonzero) continue;
        constOf[b * hw + c] = nConst++;
        for (let k = 0; k < channels; k++) constData.push(s[c * channels + k]);
      }
    }
  }
  const zeroRow = rows + nConst;
  const index = new Int32Array(rows * taps);
  const inverse = new Int32Array(rows * taps);
  const sentinel = rows * taps;
  for (let r = 0; r < rows; r++) {
    const bc = rowCellList[r];
    const b = Math.floor(bc / hw);
    const cell = bc - b * hw;
    const y = Math.floor(cell / width);
    const x = cell - y * width;
    for (let ky = 0; ky < kernel; ky++)
      for (let kx = 0; kx < kernel; kx++) {
        const t = ky * kernel + kx;
        // forward: the cell at offset (ky-pad, kx-pad) from this one
        const yy = y + ky - pad;
        const xx = x + kx - pad;
        let src = zeroRow;
        if (yy >= 0 && yy < height && xx >= 0 && xx < width) {
          const nb = b * hw + yy * width + xx;
          if (rowOf[nb] >= 0) src = rowOf[nb];
          else if (constOf[nb] >= 0) src = rows + constOf[nb];
        }
        index[r * taps + t] = src;
        // inverse: the cell that reads this one at tap t sits at offset -(ky-pad, kx-pad)
        const ry = y - (ky - pad);
        const rx = x - (kx - pad);
        let dst = sentinel;
        if (ry >= 0 && ry < height && rx >= 0 && rx < width) {
          const reader = rowOf[b * hw + ry * width + rx];
          if (reader >= 0) dst = reader * taps + t;
        }
        inverse[r * taps + t] = dst;
      }
  }
  const constants = new Float32Array((nConst + 1) * channels);
  constants.set(constData);
  return {
    batch,
    height,
    width,
    channels,
    kernel,
    rows,
    rowCell: Int32Array.from(rowCellList),
    rowAlive: Float32Array.from(rowAliveList),
    aliveCells,
    rowAliveOrdinal: Int32Array.from(ordinalList),
    table: { taps, rows, width: channels, index, inverse, constants },
  };
}

/** Gather each row's state out of the full per-sample grids: [rows*channels]. */
export function gatherRows(g: BatchGeometry, states: Float32Array[]): Float32Array {
  const hw = g.height * g.width;
  const out = new Float32Array(g.rows * g.channels);
  for (let r = 0; r < g.rows; r++) {
    const b = Math.floor(g.rowCell[r] / hw);
    const cell = g.rowCell[r] - b * hw;
    out.set(states[b].subarray(cell * g.channels, (cell + 1) * g.channels), r * g.channels);
  }
  return out;
}

/** Write rows back into the full per-sample grids (in place). */
export function scatterRows(g: BatchGeometry, rowsData: Float32Array, states: Float32Array[]): void {
  const hw = g.height * g.width;
  for (let r = 0; r < g.rows; r++) {
    const b = Math.floor(g.rowCell[r] / hw);
    const cell = g.rowCell[r] - b * hw;
    states[b].set(rowsData.subarray(r * g.channels, (r + 1) * g.channels), cell * g.channels);
  }
}
