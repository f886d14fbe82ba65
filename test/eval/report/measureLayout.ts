import type { Page } from 'playwright-core';

/** What is wrong with a report's layout as Chromium lays it out (empty lists: nothing). */
export interface LayoutProblems {
  /** document.documentElement.scrollWidth: at most the window's width when nothing widens the page. */
  scrollWidth: number;
  /** Texts whose box leaves their <svg>'s box, as "figure i: text (left, right, top, bottom overshoot)". */
  textOutside: string[];
  /** Pairs of texts of one <svg> whose boxes overlap. */
  overlaps: string[];
  /** Sections (cards) whose content is wider than the card. */
  overflowingCards: string[];
  /** Tables wider than their card, which therefore scroll inside it. */
  scrollingTables: string[];
  /** How many figures and texts were checked. */
  figures: number;
  texts: number;
}

/**
 * Measures the open page: every <text> of every inline figure against its <svg> and against the
 * other texts of that figure, every card against its content, and the page against the window.
 */
export async function measureLayout(page: Page): Promise<LayoutProblems> {
  return page.evaluate(() => {
    const r: LayoutProblems = {
      scrollWidth: document.documentElement.scrollWidth,
      textOutside: [],
      overlaps: [],
      overflowingCards: [],
      scrollingTables: [],
      figures: 0,
      texts: 0,
    };
    const tol = 0.5;
    document.querySelectorAll('svg').forEach((svg, i) => {
      r.figures++;
      const s = svg.getBoundingClientRect();
      const name = `figure ${i} (${svg.getAttribute('data-plot')})`;
      const boxes = Array.from(svg.querySelectorAll('text')).map((t) => ({ text: t.textContent ?? '', b: t.getBoundingClientRect() }));
      r.texts += boxes.length;
      for (const { text, b } of boxes) {
        const over = [s.left - b.left, b.right - s.right, s.top - b.top, b.bottom - s.bottom];
        if (over.some((o) => o > tol))
          r.textOutside.push(`${name}: "${text}" sticks out by ${over.map((o) => Math.max(0, Math.round(o))).join('/')} px (left/right/top/bottom)`);
      }
      for (let a = 0; a < boxes.length; a++) {
        for (let b = a + 1; b < boxes.length; b++) {
          const p = boxes[a].b,
            q = boxes[b].b;
          const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
          const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
          if (w > 1 && h > 1) r.overlaps.push(`${name}: "${boxes[a].text}" and "${boxes[b].text}" overlap by ${Math.round(w)}×${Math.round(h)} px`);
        }
      }
    });
    document.querySelectorAll('section').forEach((sec) => {
      if (sec.scrollWidth > sec.clientWidth + 1)
        r.overflowingCards.push(`${sec.querySelector('h2')?.textContent ?? sec.className}: ${sec.scrollWidth} px of content in ${sec.clientWidth} px`);
    });
    document.querySelectorAll('.table-scroll').forEach((t) => {
      if (t.scrollWidth > t.clientWidth + 1)
        r.scrollingTables.push(`${t.closest('section')?.querySelector('h2')?.textContent ?? 'table'}: ${t.scrollWidth} px in ${t.clientWidth} px`);
    });
    return r;
  });
}
