import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const POD_ENV = {
  K8S_POD_NAME: 'checkout-6d5f-abcde',
  K8S_POD_UID: '3f2c1a9e-0b7d-4c55-9e0a-2b8f6c1d7e44',
  K8S_NAMESPACE_NAME: 'shop',
  K8S_NODE_NAME: 'node-1',
  K8S_CONTAINER_NAME: 'app',
};

describe('Kubernetes resource attributes from the downward API', () => {
  it('adds k8s.* attributes from the K8S_* variables', () => {
    expect(loadConfig({ env: POD_ENV }).resource).toEqual({
      'service.name': 'unknown_service',
      'k8s.pod.name': 'checkout-6d5f-abcde',
      'k8s.pod.uid': '3f2c1a9e-0b7d-4c55-9e0a-2b8f6c1d7e44',
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'node-1',
      'k8s.container.name': 'app',
    });
  });

  it('lets the file and OTEL_RESOURCE_ATTRIBUTES override them, and ignores empty variables', () => {
    const text = 'service:\n  name: checkout\n  resource_attributes:\n    k8s.container.name: web\n';
    const c = loadConfig({ text, env: { ...POD_ENV, K8S_NODE_NAME: ' ', OTEL_RESOURCE_ATTRIBUTES: 'k8s.namespace.name=override' } });
    expect(c.resource).toEqual({
      'service.name': 'checkout',
      'k8s.pod.name': 'checkout-6d5f-abcde',
      'k8s.pod.uid': '3f2c1a9e-0b7d-4c55-9e0a-2b8f6c1d7e44',
      'k8s.namespace.name': 'override',
      'k8s.container.name': 'web',
    });
  });
});
