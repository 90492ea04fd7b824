// The patient picker of a SMART standalone launch: a user who may see several patients chooses the one the
// app will work on (SMART App Launch 2.x, `launch/patient`). Server-rendered, no script, like every page.
import { html } from './html.ts';
import { page } from './layout.ts';

export interface PatientChoice {
  id: string;
  name: string;
  birthDate?: string;
}

export interface PatientPickerView {
  csrf: string;
  clientName: string;
  patients: PatientChoice[];
  query: string;
  /** The authorization request, carried through the form and checked again when it comes back. */
  request: Record<string, string>;
}

export function patientPickerPage(view: PatientPickerView) {
  const hidden = Object.entries(view.request).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return page(
    'Choose a patient',
    html`<h1>Choose the patient for <strong>${view.clientName}</strong></h1>
<form method="get" action="/auth/authorize" role="search">
${hidden}
<label for="smart_patient_query">Find a patient by name</label>
<div class="actions split">
<input id="smart_patient_query" name="smart_patient_query" type="search" value="${view.query}" autocomplete="off">
<button type="submit" class="secondary">Search</button>
</div>
</form>
${view.patients.length === 0
  ? html`<p>No patient matches.</p>`
  : html`<form method="post" action="/auth/authorize">
<input type="hidden" name="csrf_token" value="${view.csrf}">
${hidden}
<fieldset>
<legend>Patients</legend>
${view.patients.map(
  (patient, index) => html`<p><input type="radio" name="smart_patient" id="patient-${index}" value="${patient.id}"${index === 0 ? html` checked` : ''}>
<label for="patient-${index}">${patient.name}${patient.birthDate ? html` <span class="muted">born ${patient.birthDate}</span>` : ''}</label></p>`,
)}
</fieldset>
<div class="actions">
<button type="submit" class="primary">Continue</button>
</div>
</form>`}`,
  );
}

/** A Patient's display name: its first HumanName, as text or given and family. */
export function patientName(patient: Record<string, unknown>): string {
  const names = Array.isArray(patient.name) ? (patient.name as Record<string, unknown>[]) : [];
  const name = names[0];
  if (!name) return String(patient.id);
  if (typeof name.text === 'string') return name.text;
  const given = Array.isArray(name.given) ? name.given.filter((part) => typeof part === 'string').join(' ') : '';
  const family = typeof name.family === 'string' ? name.family : '';
  return `${given} ${family}`.trim() || String(patient.id);
}
