// Svelte's compiler options (read by the Vite plugin and svelte-check).
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // Runes everywhere: the Svelte 5 reactivity model, no legacy component syntax.
    runes: true,
  },
};
