// Where joining agents get their streaming serving certificates signed: its
// own module so `skiff agent` can name it without loading the API server.
export const NODE_SERVING_CERT_PATH = '/v1-skiff/node-serving-certificate';
