/**
 * A host filter field. It does not list the fleet's hosts: the read API's host list computes
 * each host's totals, too dear to run for every filter form on a large inventory.
 */
export function HostField(
  props: { id: string; name?: string; value: string; label?: string; hint?: string },
) {
  return (
    <div>
      <label for={props.id}>
        {props.label ?? "Host"}
        {props.hint && <span class="hint">{props.hint}</span>}
      </label>
      <input
        type="text"
        id={props.id}
        name={props.name ?? "host"}
        value={props.value}
        placeholder="all hosts"
        autocomplete="off"
        spellcheck={false}
      />
    </div>
  );
}
