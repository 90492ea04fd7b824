// The encounter picker of a SMART standalone launch (`launch/encounter`, capability
// context-standalone-encounter): once the patient is known, the user chooses which of that patient's
// Encounters the app works in. Server-rendered, no script, like the patient picker.
import { html } from './html.ts';
import { page } from './layout.ts';

export interface EncounterChoice {
  id: string;
  title: string;
  /** When and in what state, as far as the Encounter says. */
  detail: string;
}

export interface EncounterPickerView {
  csrf: string;
  clientName: string;
  patientName: string;
  encounters: EncounterChoice[];
  /** The authorization request (with the patient chosen so far), carried through the form and checked again. */
  request: Record<string, string>;
}

export function encounterPickerPage(view: EncounterPickerView) {
  return page(
    'Choose an encounter',
    html`<h1>Choose the encounter for <strong>${view.clientName}</strong></h1>
<p class="lead">Patient: <strong>${view.patientName}</strong></p>
<form method="post" action="/auth/authorize">
<input type="hidden" name="csrf_token" value="${view.csrf}">
${Object.entries(view.request).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<fieldset>
<legend>Encounters</legend>
${view.encounters.map(
  (encounter, index) => html`<p><input type="radio" name="smart_encounter" id="encounter-${index}" value="${encounter.id}"${index === 0 ? html` checked` : ''}>
<label for="encounter-${index}">${encounter.title}${encounter.detail ? html` <span class="muted">${encounter.detail}</span>` : ''}</label></p>`,
)}
</fieldset>
<div class="actions">
<button type="submit" class="primary">Continue</button>
</div>
</form>`,
  );
}

type Coded = { text?: unknown; display?: unknown; code?: unknown; coding?: { display?: unknown; code?: unknown }[] };

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value : undefined);

function codedText(value: Coded | undefined): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const coding = Array.isArray(value.coding) ? value.coding[0] : undefined;
  return text(value.text) ?? text(value.display) ?? text(coding?.display) ?? text(value.code) ?? text(coding?.code);
}

/** An Encounter as the picker lists it: its type (else its class), then its start date and status. */
export function encounterChoice(encounter: Record<string, unknown>): EncounterChoice {
  const types = Array.isArray(encounter.type) ? (encounter.type as Coded[]) : [];
  const title = codedText(types[0]) ?? codedText(encounter.class as Coded | undefined) ?? `Encounter ${String(encounter.id)}`;
  const period = encounter.period as { start?: unknown } | undefined;
  const start = text(period?.start);
  const detail = [start && `from ${start.slice(0, 10)}`, text(encounter.status)].filter(Boolean).join(', ');
  return { id: String(encounter.id), title, detail };
}
