/**
 * credentials: the broker Secret a pipeline names must have been released for that use. Who may
 * create a TradingPipeline but not read Secrets could otherwise point `credentialsSecretRef` at
 * any Secret of the namespace and have the stages send its values to a broker URL of their
 * choosing. A Secret serves as broker credentials only when its owner labelled it
 * `tradepipe.io/broker-credentials: "true"`; the operator reads the Secret's metadata alone
 * (never its data) to check.
 */
import { API_GROUP } from "../../services/core/spec/index.ts";
import { getMetadata, isStatus } from "../kube/apply.ts";
import type { Observed, ReconcileContext } from "./context.ts";
import { ReconcileRefused } from "./ensure.ts";

export const LABEL_BROKER_CREDENTIALS = `${API_GROUP}/broker-credentials`;

export async function checkBrokerCredentials(ctx: ReconcileContext, o: Observed): Promise<void> {
  const ref = o.tp.spec.broker.credentialsSecretRef;
  if (!ref) return;
  const namespace = o.raw.metadata.namespace ?? "default";
  const where = `Secret ${namespace}/${ref.name} (spec.broker.credentialsSecretRef)`;
  let labels: Record<string, string> | undefined;
  try {
    labels = (await getMetadata(ctx.client, "Secret", namespace, ref.name)).metadata.labels;
  } catch (err) {
    if (isStatus(err, 404))
      throw new ReconcileRefused("CredentialsNotFound", `${where} does not exist`);
    throw err;
  }
  if (labels?.[LABEL_BROKER_CREDENTIALS] !== "true") {
    throw new ReconcileRefused(
      "CredentialsNotReleased",
      `${where} is not labelled ${LABEL_BROKER_CREDENTIALS}="true": only Secrets released as broker credentials may be used (kubectl label secret ${ref.name} -n ${namespace} ${LABEL_BROKER_CREDENTIALS}=true)`,
    );
  }
}
