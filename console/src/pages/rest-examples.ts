// The REST console's examples: the seeds' walk-throughs (Aidbox's authentication tutorial and its Basic,
// client-credentials and password pages), typed as they are there, one click away.
import type { Sender } from './rest-request.ts';

export interface RestExample {
  group: string;
  title: string;
  text: string;
  /** Whom the example is sent as; the console itself unless it shows a client's own call. */
  sender?: Sender;
}

export const EXAMPLES: RestExample[] = [
  {
    group: 'Basic auth', title: 'PUT Client/basic',
    text: 'PUT /Client/basic\n\nsecret: secret\ngrant_types:\n  - basic\n',
  },
  {
    group: 'Basic auth', title: 'PUT AccessPolicy/basic-policy',
    text: [
      'PUT /AccessPolicy/basic-policy', '',
      'engine: json-schema',
      'schema:',
      '  required: [client, uri, request-method]',
      '  properties:',
      '    uri: {type: string, pattern: "^/Patient.*$"}',
      "    request-method: {constant: get}",
      'link:',
      '  - reference: Client/basic', '',
    ].join('\n'),
  },
  {
    group: 'Basic auth', title: 'GET /Patient as Client basic',
    text: 'GET /Patient\n',
    sender: { kind: 'basic', id: 'basic', secret: 'secret' },
  },
  {
    group: 'Client credentials', title: 'PUT Client/api-consumer',
    text: [
      'PUT /Client/api-consumer', '',
      'secret: verysecretstring',
      'grant_types:',
      '  - client_credentials',
      'auth:',
      '  client_credentials:',
      '    access_token_expiration: 3600 # in seconds',
      '    access_token_format: jwt', '',
    ].join('\n'),
  },
  {
    group: 'Client credentials', title: 'POST /auth/token',
    text: 'POST /auth/token\n\nclient_id: api-consumer\nclient_secret: verysecretstring\ngrant_type: client_credentials\n',
    sender: { kind: 'none' },
  },
  {
    group: 'Resource owner password', title: 'PUT Client/myapp',
    text: 'PUT /Client/myapp\n\nsecret: verysecret\ngrant_types:\n  - password\n',
  },
  {
    group: 'Resource owner password', title: 'PUT User/user',
    text: 'PUT /User/user\n\nemail: user@example.org\npassword: password\n',
  },
  {
    group: 'Resource owner password', title: 'POST /auth/token',
    text: 'POST /auth/token\n\ngrant_type: password\nclient_id: myapp\nclient_secret: verysecret\nusername: user\npassword: password\n',
    sender: { kind: 'none' },
  },
  {
    group: 'Resources', title: 'POST /Patient',
    text: 'POST /Patient\n\nresourceType: Patient\nname:\n  - family: Chalmers\n    given: [Peter]\nbirthDate: "1974-12-25"\n',
  },
  {
    group: 'Resources', title: 'Search Patients',
    text: 'GET /Patient?name=chalmers&_count=10\n',
  },
  {
    group: 'Resources', title: 'CapabilityStatement',
    text: 'GET /metadata\n',
    sender: { kind: 'none' },
  },
];
