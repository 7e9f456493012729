// Figures of the fault suite. The short form runs in `npm test` (the whole suite in a few minutes on
// two cores); the long form (`npm run soak`, FAULTS_PROFILE=soak) uses the figures:
// 2,000 events/s for 60 s per scenario, a 30 s Kafka outage, a 60 s token endpoint failure.
export interface FaultProfile {
  name: 'short' | 'soak';
  /** World changes per second (each one reaches Node-RED by push, notification channel and analytics socket). */
  rate: number;
  /** Seconds of traffic per scenario. */
  trafficSeconds: number;
  kafkaOutageSeconds: number;
  redisOutageSeconds: number;
  /** A WebSocket drop every this many seconds. */
  socketDropEverySeconds: number;
  tokenFailureSeconds: number;
  /** Network to Kafka stalled this long. */
  stallSeconds: number;
  /** After the traffic: how long the pipeline may take to get everything into Kafka. */
  settleSeconds: number;
}

const SHORT: FaultProfile = {
  name: 'short', rate: 500, trafficSeconds: 10, kafkaOutageSeconds: 5, redisOutageSeconds: 4,
  socketDropEverySeconds: 2.5, tokenFailureSeconds: 5, stallSeconds: 6, settleSeconds: 60,
};

const SOAK: FaultProfile = {
  name: 'soak', rate: 2000, trafficSeconds: 60, kafkaOutageSeconds: 30, redisOutageSeconds: 30,
  socketDropEverySeconds: 10, tokenFailureSeconds: 60, stallSeconds: 30, settleSeconds: 300,
};

export function faultProfile(): FaultProfile {
  const base = process.env.FAULTS_PROFILE === 'soak' ? SOAK : SHORT;
  const rate = Number(process.env.FAULTS_RATE);
  const seconds = Number(process.env.FAULTS_SECONDS);
  return { ...base, ...(rate > 0 ? { rate } : {}), ...(seconds > 0 ? { trafficSeconds: seconds } : {}) };
}
