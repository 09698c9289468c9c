/** The web UI's icon (also spares browsers a request for /favicon.ico). */
export const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#1f56c4"/>
<path d="M9 24V8h8a5 5 0 0 1 0 10h-4" fill="none" stroke="#fff" stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round"/>
<circle cx="22.5" cy="23.5" r="2.5" fill="#fff"/>
</svg>
`;
