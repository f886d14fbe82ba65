import { describe, expect, it } from 'vitest';
import { parseLayerList } from '../../src/steering/parseLayerList.js';

describe('layer lists', () => {
  it('reads single layers, ranges and lists, sorted and deduplicated, and refuses anything else', () => {
    expect(parseLayerList('3')).toEqual([3]);
    expect(parseLayerList('-1')).toEqual([-1]);
    expect(parseLayerList('2-5')).toEqual([2, 3, 4, 5]);
    expect(parseLayerList('5, 2,3-4,3')).toEqual([2, 3, 4, 5]);
    for (const bad of ['', 'a', '2-', '5-2', '1.5', '2,,3', '0-99999']) expect(parseLayerList(bad)).toBeNull();
  });
});
