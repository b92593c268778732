import document from '../../../docs/openapi.json' with { type: 'json' };

/** The OpenAPI 3.1 document of the routes (docs/openapi.json), served at `<basePath>/openapi.json`. */
export const openApiDocument: Readonly<Record<string, unknown>> = document;
