/**
 * Paging through a list with the read API's opaque cursors: "Next page" carries the
 * cursor of the page shown; "First page" drops it. Cursors only go forward.
 */
import { withParam } from "./links.ts";

export function Pager(
  props: { url: URL; nextCursor: string | null; param?: string; label?: string },
) {
  const param = props.param ?? "cursor";
  const onLaterPage = props.url.searchParams.has(param);
  if (!onLaterPage && props.nextCursor === null) return null;
  return (
    <nav class="pager" aria-label={props.label ?? "Pages"}>
      {onLaterPage && (
        <a class="button secondary small" href={withParam(props.url, param, null)}>
          First page
        </a>
      )}
      {props.nextCursor !== null && (
        <a class="button small" rel="next" href={withParam(props.url, param, props.nextCursor)}>
          Next page
        </a>
      )}
    </nav>
  );
}
