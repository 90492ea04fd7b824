// SMART launch contexts (App Launch 2.x §"EHR Launch", §"Launch context arrives with your access_token"): what a
// `launch` value stands for (patient, encounter, fhirContext, banner and style hints), kept until it is used
// once, and the fields of it a token response and an introspection answer carry. POST /auth/launch mints them
// (src/oauth/launch.ts).
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../store/database.ts';
import type { FhirContextItem } from './fhir-context.ts';

/** What a token learns about its launch; each field is sent back in the token response (SMART §"Launch context"). */
export interface LaunchContext {
  patient?: string;
  encounter?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  /** Other resources the app opens with, e.g. a questionnaire or an order (SMART 2.x fhirContext). */
  fhirContext?: FhirContextItem[];
  /** The User the EHR launched the app for: when set, nobody else may sign in with this launch. Not sent to the app. */
  user?: string;
}

/** How long a minted `launch` value may be used: long enough to open an app and sign in. */
export const LAUNCH_LIFETIME_SECONDS = 600;

const hash = (launch: string) => createHash('sha256').update(launch).digest('base64url');

export class LaunchContexts {
  constructor(private readonly db: Database) {}

  async create(context: LaunchContext, clientId: string | null, lifetimeSeconds = LAUNCH_LIFETIME_SECONDS): Promise<string> {
    const launch = randomBytes(24).toString('base64url');
    await this.db.query(
      `insert into smart_launch (launch_hash, client_id, context, expires_at)
       values ($1, $2, $3::text::jsonb, now() + make_interval(secs => $4))`,
      [hash(launch), clientId, JSON.stringify(context), lifetimeSeconds],
    );
    await this.db.query(`delete from smart_launch where expires_at < now() - interval '1 hour'`);
    return launch;
  }

  /**
   * The context of a live launch value that the client may use; null for anything else. Its first use binds it
   * to that client and user (RFC 9700 §4.5-style binding: a launch value leaked to another app or user is useless).
   */
  async resolve(launch: string, clientId: string, userId: string): Promise<LaunchContext | null> {
    if (launch.length > 200) return null;
    const [row] = await this.db.query<{ context: LaunchContext | string }>(
      `update smart_launch
          set client_id = coalesce(client_id, $2),
              context = case when context->>'user' is null then context || jsonb_build_object('user', $3::text) else context end
        where launch_hash = $1 and expires_at > now() and (client_id is null or client_id = $2)
        returning context`,
      [hash(launch), clientId, userId],
    );
    if (!row) return null;
    return typeof row.context === 'string' ? (JSON.parse(row.context) as LaunchContext) : row.context;
  }

  /** Uses a launch value up: true for the one caller that did; a launch opens one authorization, once. */
  async consume(launch: string): Promise<boolean> {
    const rows = await this.db.query('delete from smart_launch where launch_hash = $1 returning launch_hash', [hash(launch)]);
    return rows.length === 1;
  }
}

/** The launch context as token-response fields (SMART App Launch 2.x §"Launch context arrives with your access_token"). */
export function launchResponseFields(launch: LaunchContext | undefined): Partial<LaunchContext> {
  if (!launch) return {};
  const fields = launchContextFields(launch);
  if (launch.need_patient_banner !== undefined) fields.need_patient_banner = launch.need_patient_banner;
  if (launch.smart_style_url !== undefined) fields.smart_style_url = launch.smart_style_url;
  return fields;
}

/** The context itself, without the display hints: what introspection reports of a token (SMART 2.x). */
export function launchContextFields(launch: LaunchContext | undefined): Partial<LaunchContext> {
  if (!launch) return {};
  const fields: Partial<LaunchContext> = {};
  if (launch.patient !== undefined) fields.patient = launch.patient;
  if (launch.encounter !== undefined) fields.encounter = launch.encounter;
  if (launch.fhirContext !== undefined) fields.fhirContext = launch.fhirContext;
  return fields;
}
