/** `import text from './file?raw'`: the file's text (a `Text` module rule in wrangler.toml; Vite in tests). */
declare module '*?raw' {
  const text: string;
  export default text;
}
