// The approvals matrix of the chaincodes screen (pure, unit-tested): per committed definition
// and member organisation, whether it approved (and which package), and which of its peers
// have that package installed.

export interface Approval {
  org: string;
  mspId: string;
  packageId: string | null;
}

export interface Committed {
  channel: string;
  name: string;
  version: string;
  sequence: number;
  endorsement: string | null;
  initRequired: boolean;
  wantedVersion: string | null;
  approvals: Approval[];
}

export interface ChannelChaincodes {
  channel: string;
  committed: Committed[];
  error: string | null;
}

export interface PeerPackages {
  peer: string;
  org: string;
  packages: { packageId: string; label: string }[];
  error: string | null;
}

export interface ChaincodeList {
  network: string;
  channels: ChannelChaincodes[];
  peers: PeerPackages[];
}

export interface MatrixRow {
  org: string;
  mspId: string;
  approved: boolean;
  packageId: string | null;
  /** The organisation's peers holding the approved package (or one labelled for this version). */
  installedOn: string[];
  peers: number;
}

export function matrix(definition: Committed, peers: readonly PeerPackages[]): MatrixRow[] {
  const label = `${definition.name}_${definition.version}`;
  return definition.approvals.map((a) => {
    const own = peers.filter((p) => p.org === a.org);
    const installedOn = own
      .filter((p) =>
        p.packages.some((pkg) => (a.packageId ? pkg.packageId === a.packageId : pkg.label === label)),
      )
      .map((p) => p.peer);
    return {
      org: a.org,
      mspId: a.mspId,
      approved: a.packageId !== null,
      packageId: a.packageId,
      installedOn,
      peers: own.length,
    };
  });
}
