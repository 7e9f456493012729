// node-red-node-test-helper ships no type declarations; this is the part our tests use.
declare module 'node-red-node-test-helper' {
  interface TestNode {
    id: string;
    type: string;
    on(event: string, listener: (...args: any[]) => void): void;
    receive(msg: unknown): void;
    [k: string]: any;
  }
  interface NodeTestHelper {
    init(nodeRedRuntime: string, userSettings?: Record<string, unknown>): void;
    startServer(done?: (err?: Error) => void): Promise<void> | void;
    stopServer(done?: (err?: Error) => void): Promise<void> | void;
    load(testNode: unknown, testFlow: unknown[], testCredentials?: Record<string, unknown>, cb?: () => void): Promise<void>;
    unload(): Promise<void>;
    setFlows(testFlow: unknown[], type?: string, testCredentials?: Record<string, unknown>): Promise<void>;
    getNode(id: string): TestNode & any;
    clearFlows(): Promise<void>;
    request(): any;
    url(): string;
    settings(userSettings: Record<string, unknown>): void;
    log(): any;
    _RED: any;
  }
  const helper: NodeTestHelper;
  export = helper;
}
