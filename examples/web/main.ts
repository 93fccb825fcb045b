/**
 * Edit a customer: look it up by id, change the fields and the password, save with
 * updateCustomer, and show each typed error next to the field its `path` names.
 *
 * Query string: `?endpoint=` (default `/graphql`, which the Vite server proxies to the gateway),
 * `?token=` and `?id=` prefill the form. The token is kept in sessionStorage for reloads.
 */
import { CombinedGraphQLErrors, type ApolloClient } from '@apollo/client';
import { CustomerDocument } from '@generated/graphql';
import {
  createCustomerClient,
  describeError,
  formFieldOf,
  loadCustomer,
  saveCustomer,
  type Customer,
  type FormField,
  type UpdateCustomerInput,
} from '../client/customer-client.ts';

/** Text fields edited as they are; the keys are checked against both the input and the output type. */
const TEXT_FIELDS = [
  'firstName',
  'lastName',
  'email',
  'company',
  'phone',
  'notes',
  'storeCredit',
  'registrationIpAddress',
  'taxExemptCategory',
] as const satisfies ReadonlyArray<keyof UpdateCustomerInput & keyof Customer>;

/** Fields a customer may lack: emptied in the form, they are sent as null, which clears them. */
const CLEARABLE: ReadonlySet<string> = new Set(['company', 'phone', 'notes', 'registrationIpAddress', 'taxExemptCategory']);

const TOKEN_KEY = 'customer-gateway-example-token';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the page`);
  return found as T;
}

const field = (name: string) => element<HTMLInputElement>(name);
const endpointInput = field('endpoint');
const tokenInput = field('token');
const idInput = field('id');
const lookupForm = element<HTMLFormElement>('lookup');
const customerForm = element<HTMLFormElement>('customer');
const summary = element<HTMLParagraphElement>('summary');
const status = element<HTMLParagraphElement>('status');

let session: { client: ApolloClient; id: string; loaded: Customer; stopWatching: () => void } | undefined;

const query = new URLSearchParams(location.search);
endpointInput.value = query.get('endpoint') ?? endpointInput.value;
tokenInput.value = query.get('token') ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
idInput.value = query.get('id') ?? '';

function showStatus(text: string, kind: 'saved' | 'failed' | '' = ''): void {
  status.textContent = text;
  status.className = kind;
}

function clearErrors(): void {
  for (const paragraph of document.querySelectorAll<HTMLParagraphElement>('p.error')) {
    paragraph.hidden = true;
    paragraph.textContent = '';
    delete paragraph.dataset['code'];
  }
  for (const input of document.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

function showFieldError(name: FormField, text: string, code?: string): void {
  const paragraph = element<HTMLParagraphElement>(`${name}-error`);
  paragraph.textContent = paragraph.textContent ? `${paragraph.textContent} ${text}` : text;
  if (code) paragraph.dataset['code'] = paragraph.dataset['code'] ? `${paragraph.dataset['code']} ${code}` : code;
  paragraph.hidden = false;
  const input = document.getElementById(name);
  input?.setAttribute('aria-invalid', 'true');
  input?.setAttribute('aria-describedby', paragraph.id);
}

/** A thrown error as people should read it: a GraphQL error with its code, else the message. */
function explain(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors.map((e) => `${e.message}${e.extensions?.['code'] ? ` (${String(e.extensions['code'])})` : ''}`).join(' ');
  }
  return error instanceof Error ? error.message : String(error);
}

function fill(customer: Customer): void {
  for (const name of TEXT_FIELDS) field(name).value = customer[name] ?? '';
  field('customerGroupId').value = customer.customerGroupId === null ? '' : String(customer.customerGroupId);
  field('resetPassOnLogin').checked = customer.resetPassOnLogin;
  field('password').value = '';
  field('passwordConfirmation').value = '';
}

/** Only what the user changed: a field left out of the input stays as it is on the server. */
function changes(loaded: Customer): UpdateCustomerInput {
  const input: UpdateCustomerInput = {};
  for (const name of TEXT_FIELDS) {
    const value = field(name).value.trim();
    if (value === (loaded[name] ?? '')) continue;
    input[name] = value === '' && CLEARABLE.has(name) ? null : value;
  }
  const group = field('customerGroupId').value.trim();
  const groupValue = group === '' ? null : Number(group);
  if (groupValue !== loaded.customerGroupId) input.customerGroupId = groupValue;
  const reset = field('resetPassOnLogin').checked;
  if (reset !== loaded.resetPassOnLogin) input.resetPassOnLogin = reset;
  const password = field('password').value;
  const passwordConfirmation = field('passwordConfirmation').value;
  if (password !== '' || passwordConfirmation !== '') input.authentication = { password, passwordConfirmation };
  return input;
}

/**
 * The line above the form reads the customer from Apollo's normalized cache, so it changes as
 * soon as a mutation's answer brings new values for this id: no refetch.
 */
function watchSummary(client: ApolloClient, id: string): () => void {
  const subscription = client.watchQuery({ query: CustomerDocument, variables: { id }, fetchPolicy: 'cache-only' }).subscribe({
    next: ({ data }) => {
      const customer = data?.customer;
      summary.textContent = customer
        ? `${customer.firstName} ${customer.lastName} <${customer.email}> · version ${customer.version} · last changed ${customer.dateModified}`
        : '';
    },
  });
  return () => subscription.unsubscribe();
}

lookupForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void (async () => {
    clearErrors();
    session?.stopWatching();
    session = undefined;
    customerForm.hidden = true;
    summary.textContent = '';
    const id = idInput.value.trim();
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
    showStatus('Loading…');
    try {
      const client = createCustomerClient({ uri: endpointInput.value.trim(), token: tokenInput.value.trim() });
      const customer = await loadCustomer(client, id);
      if (!customer) {
        showFieldError('id', 'No customer has this id.');
        showStatus('');
        return;
      }
      session = { client, id, loaded: customer, stopWatching: watchSummary(client, id) };
      fill(customer);
      customerForm.hidden = false;
      showStatus(`Loaded customer ${customer.id}.`);
    } catch (error) {
      showStatus(`Could not load the customer: ${explain(error)}`, 'failed');
    }
  })();
});

customerForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!session) return;
  const current = session;
  void (async () => {
    clearErrors();
    const input = changes(current.loaded);
    if (Object.keys(input).length === 0) {
      showStatus('Nothing changed.');
      return;
    }
    showStatus('Saving…');
    try {
      // expectedVersion: a change someone else saved meanwhile is not silently overwritten.
      const result = await saveCustomer(current.client, current.id, input, current.loaded.version);
      if (result.saved) {
        current.loaded = result.customer;
        fill(result.customer);
        showStatus(`Saved: version ${result.customer.version}.`, 'saved');
        return;
      }
      const general: string[] = [];
      for (const error of result.errors) {
        const name = formFieldOf(error);
        if (name) showFieldError(name, describeError(error), error.code);
        else general.push(describeError(error));
      }
      showStatus(['Nothing was saved.', ...general].join(' '), 'failed');
    } catch (error) {
      showStatus(`Nothing was saved: ${explain(error)}`, 'failed');
    }
  })();
});

// With an id and a token in the address, load at once.
if (idInput.value && tokenInput.value) lookupForm.requestSubmit();
