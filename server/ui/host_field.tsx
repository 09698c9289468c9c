/**
 * A host filter: a text field that suggests the fleet's host names (the first 1,000, by
 * name) and accepts any other.
 */
import type { Inventory } from "../../lib/inventory.ts";

export async function hostNames(inventory: Inventory): Promise<string[]> {
  const page = await inventory.hosts({ limit: 1000 });
  return page.items.map((host) => host.hostname);
}

export function HostField(
  props: { id: string; name?: string; value: string; hosts: string[]; label?: string },
) {
  return (
    <div>
      <label for={props.id}>{props.label ?? "Host"}</label>
      <input
        type="text"
        id={props.id}
        name={props.name ?? "host"}
        value={props.value}
        list={`${props.id}-list`}
        placeholder="all hosts"
        autocomplete="off"
      />
      <datalist id={`${props.id}-list`}>
        {props.hosts.map((host) => <option key={host} value={host} />)}
      </datalist>
    </div>
  );
}
