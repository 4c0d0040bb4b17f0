import { describe, expect, it } from 'vitest';
import { chart, niceCeil, rates } from './chart';

const g = { width: 110, height: 60, pad: { left: 10, right: 0, top: 0, bottom: 10 } };

describe('throughput chart', () => {
  it('turns the running committed count into the rate of each interval', () => {
    expect(rates([[0.5, 5], [1.5, 25], [2.5, 35]])).toEqual([
      { t: 0.5, rate: 10 },
      { t: 1.5, rate: 20 },
      { t: 2.5, rate: 10 },
    ]);
  });

  it('joins a short last interval to the one before', () => {
    const joined = rates([[1, 10], [2, 30], [2.2, 34]]);
    expect(joined.map((p) => p.t)).toEqual([1, 2.2]);
    expect(joined[1]?.rate).toBeCloseTo(20);
  });

  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([niceCeil(0), niceCeil(0.3), niceCeil(7), niceCeil(13), niceCeil(180)]).toEqual([1, 0.5, 10, 20, 200]);
  });

  it('draws a line inside the plot area, the highest rate at the top', () => {
    const drawn = chart([[1, 10], [2, 15]], g);
    expect(drawn.yMax).toBe(10);
    expect(drawn.line).toBe('M60.0,0.0 L110.0,25.0');
    expect(drawn.area.startsWith('M10.0,50.0')).toBe(true);
    expect(drawn.xTicks).toEqual([0, 0.5, 1, 1.5, 2]);
  });

  it('draws nothing for an empty timeline', () => {
    const drawn = chart([], g);
    expect(drawn.line).toBe('');
    expect(drawn.area).toBe('');
  });
});
