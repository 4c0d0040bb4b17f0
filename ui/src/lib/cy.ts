// The topology graph drawn with Cytoscape. This module (and Cytoscape with it) is loaded only
// by the network-detail screen, through a dynamic import, so no other screen downloads it.
//
// Cytoscape draws on a canvas; the screen keeps an equivalent list of the nodes (keyboard and
// screen readers use it) and this module mirrors counts into the container's data-* attributes
// (data-elements, data-nodes, data-healthy, data-unhealthy; data-draw-ms, how long the first
// drawing took) for tests and tooling.

import cytoscape from 'cytoscape';
import type { Core, ElementDefinition, StylesheetJson } from 'cytoscape';
import { healthCounts, type GraphModel } from './graph';

const COLOURS = {
  healthy: '#1a7f37',
  unhealthy: '#cf222e',
  absent: '#8c959f',
  unknown: '#8c959f',
};

const STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 11,
      'font-family': 'system-ui, sans-serif',
      color: '#1f2328',
      'text-valign': 'bottom',
      'text-margin-y': 4,
      width: 26,
      height: 26,
    },
  },
  {
    selector: 'node[kind = "org"]',
    style: {
      shape: 'round-rectangle',
      'background-color': '#f6f8fa',
      'border-color': '#d0d7de',
      'border-width': 1,
      'text-valign': 'top',
      'text-margin-y': -6,
      'font-weight': 'bold',
      padding: '18px',
    },
  },
  { selector: 'node[kind = "peer"]', style: { shape: 'ellipse' } },
  { selector: 'node[kind = "orderer"]', style: { shape: 'round-rectangle' } },
  ...(Object.entries(COLOURS).map(([health, colour]) => ({
    selector: `node[health = "${health}"]`,
    style: { 'background-color': colour },
  })) as StylesheetJson),
  { selector: 'node[health = "absent"]', style: { 'border-style': 'dashed', 'border-width': 2, 'border-color': '#57606a', 'background-opacity': 0.35 } },
  {
    selector: 'node[kind = "channel"]',
    style: { shape: 'hexagon', 'background-color': '#0969da', width: 34, height: 30 },
  },
  {
    selector: 'node[kind = "chaincode"]',
    style: { shape: 'tag', 'background-color': '#8250df', width: 22, height: 18 },
  },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#8c959f', 'curve-style': 'straight' } },
  { selector: 'edge[kind = "orderer"]', style: { 'line-style': 'dashed' } },
  { selector: 'edge[kind = "chaincode"]', style: { 'line-color': '#8250df' } },
  { selector: ':selected', style: { 'overlay-color': '#0969da', 'overlay-opacity': 0.25, 'overlay-padding': 6 } },
];

function elements(model: GraphModel): ElementDefinition[] {
  return [
    ...model.nodes.map((n) => ({
      group: 'nodes' as const,
      data: { id: n.id, kind: n.kind, label: n.label, parent: n.parent, health: n.health },
      position: n.position ? { ...n.position } : undefined,
    })),
    ...model.edges.map((e) => ({ group: 'edges' as const, data: { id: e.id, source: e.source, target: e.target, kind: e.kind } })),
  ];
}

function signature(model: GraphModel): string {
  return [...model.nodes.map((n) => `${n.id}@${n.parent ?? ''}`), ...model.edges.map((e) => e.id)].join('|');
}

export interface TopologyView {
  /** Show `model`: health changes recolour in place; other changes redraw. */
  update(model: GraphModel): void;
  /** Select the element `id` (null: none) without calling back. */
  select(id: string | null): void;
  destroy(): void;
}

/**
 * Cytoscape's renderer adds an inline <style> (`.__________cytoscape_container { position:
 * relative }`) to the page unless an element with this id already exists. The server's
 * Content-Security-Policy (style-src 'self') refuses inline styles, so the console claims the
 * id with an empty element and app.css carries the same rule instead: no 'unsafe-inline'.
 */
const CYTOSCAPE_STYLESHEET_ID = '__________cytoscape_stylesheet';

function claimCytoscapeStylesheet(): void {
  if (document.getElementById(CYTOSCAPE_STYLESHEET_ID)) return;
  const marker = document.createElement('meta');
  marker.id = CYTOSCAPE_STYLESHEET_ID;
  document.head.append(marker);
}

/** Draw `model` in `container`; `onSelect` gets the id of the node tapped (null: background). */
export function drawGraph(
  container: HTMLElement,
  model: GraphModel,
  onSelect: (id: string | null) => void,
): TopologyView {
  claimCytoscapeStylesheet();
  const began = performance.now();
  const cy: Core = cytoscape({
    container,
    elements: elements(model),
    style: STYLE,
    layout: { name: 'preset', fit: true, padding: 24 },
    autoungrabify: true,
    boxSelectionEnabled: false,
    minZoom: 0.1,
    maxZoom: 3,
  });
  let drawn = signature(model);
  // How long the first drawing took, from creating the graph (style, layout) to the end of
  // its first render on the canvas, for the bench figure.
  cy.one('render', () => {
    container.dataset['drawMs'] = (performance.now() - began).toFixed(1);
  });

  const mirror = (current: GraphModel) => {
    const counts = healthCounts(current);
    container.dataset['elements'] = String(cy.elements().length);
    container.dataset['nodes'] = String(cy.nodes('[kind = "peer"], [kind = "orderer"]').length);
    container.dataset['healthy'] = String(counts.healthy);
    container.dataset['unhealthy'] = String(counts.unhealthy);
  };
  mirror(model);

  cy.on('tap', (event) => {
    const target = event.target as Core | cytoscape.NodeSingular;
    onSelect(target === cy ? null : (target as cytoscape.NodeSingular).id());
  });

  return {
    update(next) {
      const now = signature(next);
      if (now !== drawn) {
        cy.elements().remove();
        cy.add(elements(next));
        cy.fit(undefined, 24);
        drawn = now;
      } else {
        cy.batch(() => {
          for (const node of next.nodes) {
            const element = cy.getElementById(node.id);
            if (element.data('health') !== node.health) element.data('health', node.health);
          }
        });
      }
      mirror(next);
    },
    select(id) {
      cy.batch(() => {
        cy.elements(':selected').unselect();
        if (id) cy.getElementById(id).select();
      });
    },
    destroy() {
      cy.destroy();
    },
  };
}
