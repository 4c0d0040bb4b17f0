// Vite's `?raw` imports (a file's text), used by unit tests that read the repository's examples.
declare module '*?raw' {
  const text: string;
  export default text;
}
